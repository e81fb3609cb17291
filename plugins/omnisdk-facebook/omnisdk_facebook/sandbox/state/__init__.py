"""The sandbox's state: the catalog, its items batches and the Page's chats; no HTTP."""
