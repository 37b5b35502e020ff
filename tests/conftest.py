pytest_plugins: list[str] = []  # shopfloor's fixtures come from its pytest11 plugin (shopfloor.testing.plugin)
