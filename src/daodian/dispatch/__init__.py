"""The dispatch engine: bundles ready orders into routes and assigns routes to couriers (rolling horizon, min-cost assignment), and the greedy baseline. Pure: no database."""
