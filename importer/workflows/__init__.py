"""What is built on the load stage: plans, upsert, export, verify."""
