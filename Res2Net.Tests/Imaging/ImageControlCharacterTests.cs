using Res2Net.Runtime.Imaging;
using Res2Net.Tests.Checkpoints;
using Xunit;

namespace Res2Net.Tests.Imaging;

/// <summary>
/// Image names come from the file system or an annotation file and reach error messages, and from there the terminal;
/// they must show control characters escaped (see <see cref="ControlCharacterTests"/>), while the exception keeps the
/// real path for programs. Spaces and non-ASCII letters are ordinary in file names and stay as they are.
/// </summary>
public class ImageControlCharacterTests : IDisposable
{
    private readonly string _dir = TempFolders.Create("res2net-escape-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void CorruptImageIsNamedEscaped()
    {
        string path = Path.Combine(_dir, "evil\u001b[31m été.jpg");
        File.Copy(ImageFixtures.Path("corrupt/garbage.jpg"), path);

        var error = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));

        Assert.Contains(Path.Combine(_dir, "evil\\x1b[31m été.jpg"), error.Message);
        ControlCharacterTests.ShowsNoRawControls(error.Message);
        Assert.Equal(path, error.FilePath);
    }

    /// <summary>The reason quotes the runtime's own message, which names the path again.</summary>
    [Fact]
    public void UnreadableImageIsNamedEscapedInTheReasonToo()
    {
        string path = Path.Combine(_dir, "gone\u009b2J\u202e.png");

        var error = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));

        Assert.Contains("gone\\x9b2J\\u202e.png", error.Message);
        ControlCharacterTests.ShowsNoRawControls(error.Message);
        Assert.Equal(path, error.FilePath);
    }

    [Fact]
    public void StreamDisplayNameIsShownEscaped()
    {
        using var stream = new MemoryStream([1, 2, 3, 4, 5]);

        var error = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(stream, "upload\u001b]0;pwned\u0007"));

        Assert.Contains("'upload\\x1b]0;pwned\\x07'", error.Message);
        ControlCharacterTests.ShowsNoRawControls(error.Message);
    }
}
