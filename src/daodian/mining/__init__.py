"""Mining the closed loop for product -> service links: who bought X and then consumed Y, as candidate links for
operators."""
