namespace Res2Net.Tests.Checkpoints;

/// <summary>Paths of the PyTorch-made fixtures (tools/reference/make_fixtures.py), copied beside the test assembly.</summary>
internal static class FixtureFiles
{
    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", name);
}
