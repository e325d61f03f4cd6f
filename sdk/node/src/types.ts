/** Shapes of contract events and of the API's answers (docs/openapi.json). */

export type Tier = "trusted" | "watch" | "restrict" | "critical";
export type Decision = "confirmed_grooming" | "confirmed_other_harm" | "cleared" | "escalated";
export type EventType = "message" | "contact" | "session" | "profile" | "media" | "report" | "moderation";

/** A contract event (shared/spec/events.md). `event_id` and `tenant_id` may be left to the client. */
export interface ContractEvent {
  event_id?: string;
  tenant_id?: string;
  type: EventType;
  occurred_at: string;
  actor_id: string;
  content?: string;
  content_sha256?: string;
  content_signals?: Record<string, number>;
  [field: string]: unknown;
}

/** An event as sent: ids filled in. */
export interface PreparedEvent extends ContractEvent {
  event_id: string;
}

export interface IngestResult {
  accepted: string[];
  count: number;
}

export interface DecisionResult {
  event_id: string;
  queue_item_closed: boolean;
  evidence_package_id?: string;
}

export interface Driver {
  signal: string;
  contribution: number;
  explanation: string;
}

export interface ScoreEntry {
  score_id: string;
  score: number;
  tier: Tier;
  previous_tier: Tier | null;
  max_score: number;
  explanation: string;
  drivers: Driver[];
  scored_at: string | null;
  event_id: string | null;
  first_alert_at: string | null;
}

export interface ActorScore extends ScoreEntry {
  actor: string;
  user_id: string | null;
  updated_at: string | null;
}

export interface ScoreHistory {
  actor: string;
  items: ScoreEntry[];
  next_before: string | null;
}

export interface QueueItem {
  item_id: number;
  actor: string;
  user_id: string | null;
  score: number;
  tier: Tier;
  explanation: string;
  drivers: Driver[];
  alert_count: number;
  first_alert_id: string | null;
  latest_alert_id: string | null;
  opened_at: string | null;
  raised_at: string | null;
  current_score: number | null;
  current_tier: Tier | null;
}

export interface QueuePage {
  items: QueueItem[];
  next_after: string | null;
}

export interface PairDirection {
  from: string;
  to: string;
  signalled: boolean;
  points: number;
  signals: Record<string, unknown>[];
  figures: Record<string, unknown>;
}

export interface PairAnalysis {
  pair: [string, string];
  events: number;
  truncated: boolean;
  first_contact_at: string | null;
  first_shared_at: string | null;
  first_private_at: string | null;
  first_private_from: string | null;
  last_at: string | null;
  directions: PairDirection[];
  note: string;
}
