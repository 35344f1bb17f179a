"""The staff shell: home page, navigation and static assets."""
