"""Pure pairing: a rule and the stable files it sees → the render requests to make."""
