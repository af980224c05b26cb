"""Playing technique (seed 000): landmark features and the live estimator that runs the shipped model."""
