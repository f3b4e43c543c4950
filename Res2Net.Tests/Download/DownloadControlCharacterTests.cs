using Res2Net.Runtime.Download;
using Res2Net.Tests.Checkpoints;
using Xunit;

namespace Res2Net.Tests.Download;

/// <summary>
/// A checkpoint URL comes from a network spec or a mirror setting, and its file name is percent-decoded into the cache
/// path: <c>%1b</c> becomes ESC there. Download errors name both and must show control characters escaped
/// (see <see cref="ControlCharacterTests"/>), keeping their line breaks and the real values in their properties.
/// </summary>
[Collection(ProcessEnvironment.Name)]
public class DownloadControlCharacterTests
{
    [Fact]
    public async Task CachePathDecodedFromTheUrlIsShownEscaped()
    {
        const string Url = "https://example.invalid/res2net/evil%1b%5b31m%c2%9b2J.pth";
        var info = Networks.Res2NetModels.Create("tiny-plain").Info with { CheckpointUrl = Url };
        string cache = TempFolders.Create("res2net-cache-").FullName;
        try
        {
            var error = await Assert.ThrowsAsync<CheckpointDownloadException>(() =>
                PretrainedCheckpoints.EnsureAsync(info, new PretrainedOptions { CacheDirectory = cache, AllowDownload = false }));

            string shownPath = Path.Combine(cache, "evil\\x1b[31m\\x9b2J.pth");
            Assert.Equal($"could not download {Url}: it is not in the cache and downloading is switched off\nDownload it by hand and save it as\n  {shownPath}", error.Message);
            ControlCharacterTests.ShowsNoRawControls(error.Message);
            Assert.Equal(Path.Combine(cache, "evil\u001b[31m\u009b2J.pth"), error.TargetPath);
            Assert.Equal(Url, error.Url);
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [Fact]
    public void ServerTextInTheCauseIsShownEscaped()
    {
        // What a reason phrase may hold (RFC 9110 allows bytes 0x80-0xFF, read as Latin-1: 0x9b is the C1 CSI).
        var error = new CheckpointDownloadException("http://127.0.0.1:1/a.pth", "/cache/a.pth", "the server answered 404 Gone\u009b2J");

        Assert.Equal("could not download http://127.0.0.1:1/a.pth: the server answered 404 Gone\\x9b2J\nDownload it by hand and save it as\n  /cache/a.pth", error.Message);
        Assert.Equal("the server answered 404 Gone\u009b2J", error.Cause);
    }
}
