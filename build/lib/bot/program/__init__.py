"""The marketer's keyword program: YAML loaded, validated and compiled once into a domain Program."""
