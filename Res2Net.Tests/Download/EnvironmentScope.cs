namespace Res2Net.Tests.Download;

/// <summary>
/// Sets process environment variables for one test and unsets them when disposed. Only for tests in the
/// <see cref="ProcessEnvironment"/> collection, which run one at a time.
/// </summary>
internal sealed class EnvironmentScope : IDisposable
{
    private readonly string[] _names;

    public EnvironmentScope(params (string Name, string? Value)[] variables)
    {
        _names = [.. variables.Select(v => v.Name)];
        foreach (var (name, value) in variables) Environment.SetEnvironmentVariable(name, value);
    }

    public void Dispose()
    {
        foreach (string name in _names) Environment.SetEnvironmentVariable(name, null);
    }
}
