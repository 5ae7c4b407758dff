"""Session-scoped fixtures that start real servers (S3 on moto and Swift, PostgreSQL) on 127.0.0.1."""
