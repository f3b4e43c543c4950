using System.Text.Json;
using Res2Net.Tests.Datasets;
using Xunit;

namespace Res2Net.Tests.Cli;

/// <summary>
/// <c>res2net test --shard K/N --out part-K.json</c> then <c>res2net test --merge</c>, end to end with the seeded
/// res2net50-w14-s8 on the demo photos plus an unreadable one: the merged accuracy and results file must be the
/// unsharded run's exactly (PyTorch's, as <see cref="TestCommandTests"/> checks for the unsharded run).
/// </summary>
public class ShardedTestCommandTests
{
    private const string W14 = SeededCheckpoint.Model;

    [Fact]
    public void MergedShardsPrintAndWriteTheUnshardedResults()
    {
        string dir = TempFolders.Create("res2net-shards-").FullName;
        string ann = Path.Combine(dir, "val.txt");
        File.WriteAllText(ann, File.ReadAllText(DatasetFixtures.AnnFile("seeded")) + "../corrupt/truncated-half.jpg 3\n");
        string[] Test(params string[] options) =>
            ["test", "--model", W14, "--checkpoint", SeededCheckpoint.Path, "--data", SeededCheckpoint.DemoDir, "--ann-file", ann, .. options];

        var (code, wholeOutput, err) = CliTests.Run(Test("--batch-size", "4", "--out", Path.Combine(dir, "whole.json")));
        Assert.True(code == 0, err);
        for (int k = 0; k < 2; k++)
        {
            (code, string output, err) = CliTests.Run(Test("--shard", $"{k}/2", "--batch-size", "1", "--out", Path.Combine(dir, $"part-{k}.json")));
            Assert.True(code == 0, err);
            Assert.Contains($"shard {k}/2, ", output);
        }
        (code, string merged, err) = CliTests.Run("test", "--merge", Path.Combine(dir, "part-1.json"), Path.Combine(dir, "part-0.json"),
            "--out", Path.Combine(dir, "merged.json"));
        Assert.True(code == 0, err);

        string metrics = wholeOutput.Split('\n').Single(l => l.StartsWith("accuracy/top1: ", StringComparison.Ordinal));
        Assert.Equal("accuracy/top1: 50.0000  accuracy/top5: 75.0000", metrics);   // PyTorch's (TestCommandTests)
        Assert.Contains(metrics, merged);
        Assert.Contains("merged 2 parts", merged);
        Assert.Contains("4 of 5 images evaluated, 1 skipped", merged);

        using var whole = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "whole.json")));
        using var combined = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "merged.json")));
        // Everything but the times is the unsharded file's, field by field, in the same order.
        string[] timing = ["seconds", "images_per_second"];
        var expected = whole.RootElement.EnumerateObject().Where(p => !timing.Contains(p.Name)).Select(p => (p.Name, p.Value.GetRawText())).ToList();
        var actual = combined.RootElement.EnumerateObject().Where(p => !timing.Contains(p.Name)).Select(p => (p.Name, p.Value.GetRawText())).ToList();
        Assert.Equal(expected, actual);
        Assert.False(combined.RootElement.TryGetProperty("shard", out _));
        using var part = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "part-1.json")));
        var shard = part.RootElement.GetProperty("shard");
        Assert.Equal((1, 2, 5), (shard.GetProperty("index").GetInt32(), shard.GetProperty("count").GetInt32(), shard.GetProperty("listing_images").GetInt32()));
        Assert.Equal(64, part.RootElement.GetProperty("checkpoint_sha256").GetString()!.Length);
    }
}
