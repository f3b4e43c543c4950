using Res2Net.Runtime.IO;
using Res2Net.Tests.Checkpoints;
using Xunit;

namespace Res2Net.Tests.IO;

/// <summary>
/// Output paths reach error messages with text the file system supplies: a link's target, the name of a feature file
/// derived from an input image's name. Messages show its control characters escaped (see <see cref="ControlCharacterTests"/>);
/// the exception keeps the real path.
/// </summary>
public class OutputPathControlCharacterTests : IDisposable
{
    private readonly string _dir = TempFolders.Create("res2net-escape-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void LinkTargetIsShownEscaped()
    {
        string output = File.CreateSymbolicLink(Path.Combine(_dir, "out.onnx"), "evil\u001b]0;pwned\u0007\u202e").FullName;

        var error = Assert.Throws<OutputFileException>(() => OutputPath.Check(output, OutputKind.Onnx, force: false, []));

        Assert.Contains("is a symbolic link (to evil\\x1b]0;pwned\\x07\\u202e)", error.Message);
        ControlCharacterTests.ShowsNoRawControls(error.Message);
    }

    [Fact]
    public void OutputPathIsShownEscaped()
    {
        string output = Directory.CreateDirectory(Path.Combine(_dir, "photo\u001b[31m.stem.npy")).FullName;

        var error = Assert.Throws<OutputFileException>(() => OutputPath.Check(output, OutputKind.Npy, force: false, []));

        Assert.Equal($"{Path.Combine(_dir, "photo\\x1b[31m.stem.npy")}: is a folder; give a file name", error.Message);
        Assert.Equal(output, error.FilePath);
    }
}
