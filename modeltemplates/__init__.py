"""modeltemplates: validate model packages against serving-platform templates before upload."""
