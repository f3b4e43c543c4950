using ApprovalTests;
using ApprovalTests.Namers;
using Xunit;

namespace Res2Net.Tests.Generator;

/// <summary>
/// The generated code of every network in networks/, compared with a reviewed copy. A change to the emitter
/// shows up here as a diff to read and approve (rename the .received.txt over the .approved.txt).
/// The generator's version in the header is written as <c>{version}</c>, so that a release does not change the
/// snapshots (GeneratedFileHeaderTests checks the version itself).
/// </summary>
public class SnapshotTests
{
    private static string WithoutVersion(string generated) =>
        generated.Replace($"Res2Net.Generator {Res2Net.Generator.Emitting.GeneratedFileHeader.GeneratorVersion}", "Res2Net.Generator {version}", StringComparison.Ordinal);

    /// <summary>
    /// Both files of each network: the network (its forwards by block, its layers' algorithms, its layer types) and its
    /// tables. tiny-deep is the one a reviewer can read end to end: a deep stem, stage and normal blocks, every fusion.
    /// </summary>
    [Theory]
    [InlineData("networks", "res2net50-w14-s8")]
    [InlineData("networks", "res2net50-w26-s8")]
    [InlineData("networks", "res2net101-w26-s4")]
    [InlineData("Res2Net.Tests/Networks", "tiny-deep")]
    public void GeneratedNetworkMatchesTheApprovedSource(string folder, string spec)
    {
        string path = GeneratorRunner.RepoFile(folder.Split('/').Append(spec + ".json").ToArray());
        var result = GeneratorRunner.Run(("networks/" + spec + ".json", File.ReadAllText(path)));
        Assert.Empty(result.Diagnostics);
        var trees = result.GeneratedTrees.Where(t => !t.FilePath.EndsWith("Res2NetModels.g.cs", StringComparison.Ordinal))
            .OrderBy(t => t.FilePath, StringComparer.Ordinal).ToList();
        Assert.Equal(2, trees.Count);
        using (ApprovalResults.ForScenario(spec))
        {
            Approvals.Verify(WithoutVersion(string.Join("\n// ──────── next file ────────\n\n", trees.Select(t => $"// {Path.GetFileName(t.FilePath)}\n{t.GetText()}"))));
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
        Approvals.Verify(WithoutVersion(Assert.Single(result.GeneratedTrees, t => t.FilePath.EndsWith("Res2NetModels.g.cs", StringComparison.Ordinal)).GetText().ToString()));
    }
}
