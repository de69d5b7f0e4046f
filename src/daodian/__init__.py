"""daodian (到店): an O2O platform linking online purchases to the local services around them."""

__version__ = "0.1.0"
