"""C2B deals, where consumers gather before the merchant commits: tiered group buys and pre-sales by vote."""
