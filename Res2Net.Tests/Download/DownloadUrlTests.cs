using Res2Net.Runtime.Download;
using Xunit;
using static Res2Net.Tests.Download.DownloadTests;

namespace Res2Net.Tests.Download;

/// <summary>
/// Which URLs a download follows: only absolute http(s) base URLs and redirects, at most
/// <see cref="CheckpointDownloader.MaxRedirects"/> of them. Anything else is a <see cref="CheckpointDownloadException"/>
/// naming the setting or the redirect and what was expected, never an ArgumentException or UriFormatException.
/// </summary>
[Collection(ProcessEnvironment.Name)]
public class DownloadUrlTests
{
    private static Runtime.Networks.NetworkInfo TinyInfo =>
        Networks.Res2NetModels.Create("tiny-plain").Info with { CheckpointUrl = "https://example.invalid/res2net/" + FileName, CheckpointSha256 = Prefix };

    [Theory]
    [InlineData("file:///tmp/")]
    [InlineData("ftp://mirror.example/res2net/")]
    [InlineData("mirror.example/res2net")]
    [InlineData("http://[bad/")]
    public async Task DownloadBaseThatIsNotHttpIsReportedNamingTheVariable(string baseUrl)
    {
        string cache = NewCache();
        using var environment = new EnvironmentScope((CheckpointCache.DownloadBaseVariable, baseUrl));
        var e = await Assert.ThrowsAsync<CheckpointDownloadException>(() => PretrainedCheckpoints.EnsureAsync(TinyInfo, Options(cache)));

        Assert.Contains($"RES2NET_DOWNLOAD_BASE is '{baseUrl}'", e.Message);
        Assert.Contains("expected an absolute http:// or https:// URL", e.Message);
        Assert.Equal("https://example.invalid/res2net/" + FileName, e.Url);
        Assert.Equal(Path.Combine(cache, FileName), e.TargetPath);
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Fact]
    public void DownloadBaseOptionThatIsNotHttpIsReportedNamingTheOption()
    {
        string cache = NewCache();
        var e = Assert.Throws<CheckpointDownloadException>(() =>
            PretrainedCheckpoints.Ensure(TinyInfo, Options(cache) with { DownloadBaseUrl = "file:///srv/mirror" }));
        Assert.Contains("PretrainedOptions.DownloadBaseUrl is 'file:///srv/mirror'", e.Message);
    }

    [Fact]
    public void CliReportsABadDownloadBaseAsAUserError()
    {
        string home = TempFolders.Create("res2net-home-").FullName;
        using var environment = new EnvironmentScope((CheckpointCache.HomeVariable, home), (CheckpointCache.DownloadBaseVariable, "ftp://mirror.example/res2net/"));
        var (code, _, err) = Cli.CliTests.Run("predict", Fixtures.Path("images", "demo", "dog.jpg"), "--model", W14);

        Assert.Equal(Res2Net.Cli.CliApp.UserError, code);
        Assert.StartsWith("res2net: error: ", err);
        Assert.Contains("RES2NET_DOWNLOAD_BASE is 'ftp://mirror.example/res2net/'", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://127.0.0.1/" + "x.pth")]
    public async Task RedirectToAnythingButHttpIsRefused(string location)
    {
        using var server = new LocalHttpServer((_, _) => LocalHttpServer.Reply.Redirect(location));
        string cache = NewCache();
        string url = $"{server.BaseUrl}/{FileName}";

        var e = await Assert.ThrowsAsync<CheckpointDownloadException>(() =>
            CheckpointDownloader.DownloadAsync(url, Path.Combine(cache, FileName), Prefix, Options(cache)));

        Assert.Contains($"{url} redirects to {location}; only http:// and https:// redirects are followed", e.Message);
        Assert.Single(server.Requests);
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Fact]
    public async Task RedirectLoopStopsAfterTheLimit()
    {
        using var server = new LocalHttpServer((request, n) => LocalHttpServer.Reply.Redirect($"/hop{n + 1}/{FileName}"), maxRequests: 60);
        string cache = NewCache();
        string url = $"{server.BaseUrl}/{FileName}";

        var e = await Assert.ThrowsAsync<CheckpointDownloadException>(() =>
            CheckpointDownloader.DownloadAsync(url, Path.Combine(cache, FileName), Prefix, Options(cache)));

        // The first request and 10 redirects are made; the 11th redirect is refused (urllib's limit, which torch.hub has).
        Assert.Contains($"more than 10 redirects (the last from {server.BaseUrl}/hop10/{FileName} to {server.BaseUrl}/hop11/{FileName})", e.Message);
        Assert.Equal(11, server.Requests.Count);
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Fact]
    public async Task RelativeRedirectIsFollowed()
    {
        using var server = new LocalHttpServer((request, _) => request.Path == "/real/" + FileName
            ? new LocalHttpServer.Reply(200, Checkpoint)
            : LocalHttpServer.Reply.Redirect("/real/" + FileName, 301));
        string cache = NewCache();
        string target = Path.Combine(cache, FileName);

        await CheckpointDownloader.DownloadAsync($"{server.BaseUrl}/{FileName}", target, Prefix, Options(cache));

        Assert.Equal(Checkpoint, await File.ReadAllBytesAsync(target));
        Assert.Equal(["/" + FileName, "/real/" + FileName], server.Requests.Select(r => r.Path));
    }
}
