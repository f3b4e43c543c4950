using Res2Net.Serving;
using Xunit;

namespace Res2Net.Tests.Serving;

/// <summary>What <see cref="ServingOptions.Validate"/> takes and refuses, and the default body limit.</summary>
public class ServingOptionsTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8080")]
    [InlineData("http://0.0.0.0:8080")]
    [InlineData("http://*:8080")]
    [InlineData("http://+:80")]
    [InlineData("http://[::]:8080")]
    [InlineData("http://localhost:0")]
    public void ListensOnHttpUrls(string url) => new ServingOptions { Urls = [url] }.Validate();

    [Theory]
    [InlineData("https://127.0.0.1:8443")]
    [InlineData("ftp://127.0.0.1:21")]
    [InlineData("127.0.0.1:8080")]
    [InlineData("http://127.0.0.1:8080/v2")]
    [InlineData("http://user:secret@127.0.0.1:8080")]
    [InlineData("http://127.0.0.1:99999")]
    public void RefusesWhatIsNotAnHttpUrlToListenOn(string url)
    {
        var e = Assert.Throws<ArgumentException>(() => new ServingOptions { Urls = [url] }.Validate());
        Assert.Contains("(--urls)", e.Message);
    }

    [Fact]
    public void TheDefaultBodyLimitFitsAFullBatchOfTheLargestModelAsJson()
    {
        var tiny = new ServedModel(ServingHarness.Loaded("tiny-plain"));
        // 16 MiB at least: 8 tiny images need only 8 x 5760 x 20 bytes + 1 MiB.
        Assert.Equal(16L << 20, new ServingOptions().BodyLimit([tiny]));
        Assert.Equal(1024 * 5760 * 20 + (1L << 20), new ServingOptions { MaxBatch = 1024 }.BodyLimit([tiny]));
        Assert.Equal(12345, new ServingOptions { MaxRequestBodyBytes = 12345 }.BodyLimit([tiny]));
    }
}
