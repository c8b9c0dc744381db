"""Cases: the report form (报告处理单), its workflow, measures, deadlines and export."""
