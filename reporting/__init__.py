"""Learning from all complaints: indicators over the register (KPIs), the
tracking of corrective and improvement actions, and the quality report."""
