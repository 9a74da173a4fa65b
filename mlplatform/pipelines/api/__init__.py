"""The HTTP API: the KFP v2beta1 subset kfp.Client 2.x uses, plus artifacts and task logs."""
