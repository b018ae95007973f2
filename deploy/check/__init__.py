"""`make deploy-test`: the production stack (nginx, several gunicorn instances, PostgreSQL,
Redis) started on this machine and checked end to end. See `python -m deploy.check --help`."""
