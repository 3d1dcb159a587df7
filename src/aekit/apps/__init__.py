"""Applications: autoencoders put to work behind the scikit-learn contract."""
