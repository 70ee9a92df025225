/// The in-process CRM of `oaas dev`: the same Deploy/Status/Delete path, realised with in-process ODGM collections.
public enum LocalRuntime {}
