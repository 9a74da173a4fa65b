"""Model serving: fetching model artifacts for MLServer (`mlp model fetch`) and MLServer's repository API."""
