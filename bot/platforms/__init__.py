"""The chat platforms: the contract, the registry, and one package per platform."""
