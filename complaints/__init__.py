"""The foundation shared by workflows, activities, worker and starters:
settings, the deadline policy, the data models, and the register's database."""
