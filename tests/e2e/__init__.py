"""End-to-end tests: the CLI as a user runs it over a sandbox, whole runs, kills and resumes (marked ``e2e``)."""
