"""NCMEC CyberTipline reports: build, validate, summarise, submit (docs/ncmec.md).

- :mod:`pipeline.ncmec.model`: the pure input of one report (``ReportInput``);
- :mod:`pipeline.ncmec.inputs`: that input read from a JSON file, errors naming the field;
- :mod:`pipeline.ncmec.report_xml` and :mod:`pipeline.ncmec.schema`: the XML and its XSD check;
- :mod:`pipeline.ncmec.summary`: what a human reviewer reads before anything is sent;
- :mod:`pipeline.ncmec.client`: the raw HTTP client of the Reporting API;
- :mod:`pipeline.ncmec.states`, :mod:`pipeline.ncmec.store`, :mod:`pipeline.ncmec.submission`:
  the submission's state machine, its PostgreSQL row and the run that drives both;
- :mod:`pipeline.ncmec.standin`: a local stand-in of the API for tests and demos.
"""
