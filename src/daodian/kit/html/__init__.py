"""What every HTML page shares: the Jinja environment and error page, CSRF-checked forms, local times."""
