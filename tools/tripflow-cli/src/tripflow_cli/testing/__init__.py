"""Test support shared by every service's tests and the cross-service tests.

Infrastructure comes, in this order, from: TRIPFLOW_TEST_DATABASE_URL and
TRIPFLOW_TEST_KAFKA_BOOTSTRAP; testcontainers when a Docker engine answers; the
project's own `tripflow infra` (Kafka from Maven Central jars, Debian PostgreSQL).
Each test session gets its own database and its own Kafka namespace, so two runs
sharing a broker never see each other's events.
"""
