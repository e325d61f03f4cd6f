// Copy the exported stage model (sdk/model/stage_model.json) next to the built
// code, where the privacy-mode extractor loads it from.
import { copyFileSync, mkdirSync } from "node:fs";

const source = new URL("../../model/stage_model.json", import.meta.url);
const target = new URL("../dist/stage_model.json", import.meta.url);
mkdirSync(new URL("../dist/", import.meta.url), { recursive: true });
copyFileSync(source, target);
