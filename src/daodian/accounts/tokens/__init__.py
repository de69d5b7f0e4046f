"""Who a bearer token or session cookie is, fast: this process's memory of principals (memory.py), the
read-through lookup (lookup.py), the record of account changes that invalidates it across processes
(changes.py), and tokens looked up together when a crowd arrives at once (batched.py)."""
