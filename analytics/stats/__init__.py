"""Pure statistics on small aggregates: intervals, two-sample and stratified tests, sequential tests, drift."""
