"""Pre-sales by vote: consumers pay deposits on candidate products; only the winners are made and sold."""
