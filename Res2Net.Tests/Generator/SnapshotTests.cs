using ApprovalTests;
using ApprovalTests.Namers;
using Xunit;

namespace Res2Net.Tests.Generator;

/// <summary>
/// The generated code of every network in networks/, compared with a reviewed copy. A change to the emitter
/// shows up here as a diff to read and approve (rename the .received.txt over the .approved.txt).
/// </summary>
public class SnapshotTests
{
    [Theory]
    [InlineData("res2net50-w14-s8")]
    [InlineData("res2net50-w26-s8")]
    [InlineData("res2net101-w26-s4")]
    public void GeneratedNetworkMatchesTheApprovedSource(string spec)
    {
        string path = GeneratorRunner.RepoFile("networks", spec + ".json");
        var result = GeneratorRunner.Run(("networks/" + spec + ".json", File.ReadAllText(path)));
        Assert.Empty(result.Diagnostics);
        var tree = Assert.Single(result.GeneratedTrees, t => !t.FilePath.EndsWith("Res2NetModels.g.cs", StringComparison.Ordinal));
        using (ApprovalResults.ForScenario(spec))
        {
            Approvals.Verify(tree.GetText().ToString());
        }
    }

    [Fact]
    public void RegistryMatchesTheApprovedSource()
    {
        var specs = Directory.GetFiles(GeneratorRunner.RepoFile("networks"), "*.json")
            .Where(p => !p.EndsWith(".schema.json", StringComparison.Ordinal))
            .OrderBy(p => p, StringComparer.Ordinal)
            .Select(p => ("networks/" + Path.GetFileName(p), File.ReadAllText(p)))
            .ToArray();
        var result = GeneratorRunner.Run(specs);
        Assert.Empty(result.Diagnostics);
        Approvals.Verify(Assert.Single(result.GeneratedTrees, t => t.FilePath.EndsWith("Res2NetModels.g.cs", StringComparison.Ordinal)).GetText().ToString());
    }
}
