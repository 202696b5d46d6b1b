"""``GET /health``: what a load balancer and an operator look at."""
