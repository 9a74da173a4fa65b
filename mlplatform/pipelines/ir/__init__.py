"""The compiled pipeline (KFP v2 IR): reading packages, validating, parameters, conditions, placeholders."""
