"""Local and test tooling: the stand-in hub, tiny models, the smoke tasks, the demo and the
evaluation benchmark. The product (``leaderboard``, ``evaluations``, ``workers``) never
imports this package."""
