"""The supplier catalogue: companies, their products and the products' certifications."""
