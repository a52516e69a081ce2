"""pare's OCI distribution client: auth, blobs, manifests, and RegistryStore."""
