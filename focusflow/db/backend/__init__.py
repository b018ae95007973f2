"""The project's database engine (ENGINE `focusflow.db.backend`): Django's PostgreSQL backend
with a circuit breaker on connection attempts (base.py)."""
