using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Download;
using Xunit;
using static Res2Net.Tests.Download.DownloadTests;

namespace Res2Net.Tests.Download;

/// <summary>
/// A file under the cache's final name that no longer reads (damaged on disk, or replaced by hand) is reported with
/// its path and what to do: delete it so that the next run downloads it again. It is not deleted for the user.
/// </summary>
[Collection(ProcessEnvironment.Name)]
public class CachedCheckpointTests
{
    private const string Expected = "bc967bf1"; // the sha256 prefix in W14's file name

    private static string Damaged(string cache)
    {
        // The real checkpoint format, cut short: unreadable, and its sha256 is not the published file's.
        string path = Path.Combine(cache, W14File);
        File.WriteAllBytes(path, Checkpoint[..(Checkpoint.Length / 2)]);
        return path;
    }

    [Fact]
    public void DamagedCachedFileIsNamedWithTheAdviceToDeleteIt()
    {
        using var server = LocalHttpServer.Serving(new Dictionary<string, byte[]>());
        string cache = NewCache();
        string path = Damaged(cache);

        var e = Assert.Throws<CheckpointException>(() =>
            Res2Net.Models.Res2NetModels.Get(W14, pretrained: true, Options(cache) with { DownloadBaseUrl = server.BaseUrl }));

        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains($"this cached download's sha256 no longer starts with {Expected}", e.Message);
        Assert.Contains($"delete {path} and run again to download it afresh", e.Message);
        Assert.Empty(server.Requests);
        Assert.True(File.Exists(path), "the user's file is left for the user to delete");
    }

    [Theory]
    [InlineData("predict")]
    [InlineData("export")] // reads the state dict itself, not through a network
    public void CliNamesTheDamagedCachedFileAndSaysToDeleteIt(string command)
    {
        string home = TempFolders.Create("res2net-home-").FullName;
        string path = Damaged(Directory.CreateDirectory(Path.Combine(home, "checkpoints")).FullName);
        string onnx = Path.Combine(home, "w14.onnx");
        string[] args = command == "predict"
            ? ["predict", Fixtures.Path("images", "demo", "dog.jpg"), "--model", W14]
            : ["export", "--model", W14, "-o", onnx];
        using var environment = new EnvironmentScope((CheckpointCache.HomeVariable, home), (CheckpointCache.OfflineVariable, "1"));
        var (code, _, err) = Cli.CliTests.Run(args);

        Assert.Equal(Res2Net.Cli.CliApp.UserError, code);
        Assert.StartsWith($"res2net: error: {path}: ", err);
        Assert.Contains($"this cached download's sha256 no longer starts with {Expected}", err);
        Assert.Contains($"delete {path} and run again to download it afresh", err);
        Assert.False(File.Exists(onnx));
    }
}
