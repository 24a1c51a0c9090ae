"""Docker Swarm tests: pure parsers, and the real dockerd turned into a one-node swarm."""
