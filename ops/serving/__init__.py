"""How production serves Consigne: nginx in front (bodies buffered whole, in memory only), gunicorn's
threaded workers behind. The two configuration files here are used as they are by docker-compose.yml,
by the slow-client tests and by the benchmark; ``loopback`` runs the pair on 127.0.0.1."""
