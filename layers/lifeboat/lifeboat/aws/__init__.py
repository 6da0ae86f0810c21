"""AWS adapters: clients and the translation of AWS errors into Lifeboat's exception types."""
