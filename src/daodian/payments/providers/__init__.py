"""Payment providers behind one interface (base.PaymentProvider); `registry.get` picks one by name."""
