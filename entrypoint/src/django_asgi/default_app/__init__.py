"""The page an image serves before it is pointed at a project."""
