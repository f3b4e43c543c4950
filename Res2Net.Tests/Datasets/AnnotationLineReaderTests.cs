using System.Text;
using Res2Net.Runtime.Datasets;
using Xunit;

namespace Res2Net.Tests.Datasets;

/// <summary>
/// The bounded line reader behind --ann-file: the same lines as <see cref="File.ReadAllLines(string)"/> (the reader it
/// replaces, whose splitting is StreamReader.ReadLine's), but never more than one line of bounded length in memory.
/// </summary>
public class AnnotationLineReaderTests : IDisposable
{
    private readonly string _dir = TempFolders.Create("res2net-ann-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(byte[] bytes)
    {
        string path = Path.Combine(_dir, $"{Guid.NewGuid():N}.txt");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static List<string> ReadAll(AnnotationLineReader reader)
    {
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            lines.Add(line);
            Assert.Equal(lines.Count, reader.LineNumber);
        }
        return lines;
    }

    public static TheoryData<string> Texts => new()
    {
        "", "\n", "a 1", "a 1\n", "a 1\nb 2\n", "a 1\r\nb 2\r\n", "a 1\rb 2", "a 1\r\n\r\nb 2\n\n", "\r\r\n\n", "x\r", "ä ß € 3\n",
        new string('p', 5000) + " 1\n" + new string('q', 4096) + "\r\n",   // across the reader's 4096-character buffer
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void SplitsLinesAsFileReadAllLinesDoes(string text)
    {
        foreach (var bytes in new[] { Encoding.UTF8.GetBytes(text), [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(text)] })
        {
            string path = Write(bytes);
            using var reader = new AnnotationLineReader(path);
            Assert.Equal(File.ReadAllLines(path), ReadAll(reader));
        }
    }

    [Fact]
    public void ALineOverTheLimitIsNamedWithItsNumber()
    {
        string path = Write("a 1\nb 2\nccccccccccc 3\n"u8.ToArray());
        using var reader = new AnnotationLineReader(path, maxLineLength: 10);
        Assert.Equal("a 1", reader.ReadLine());
        Assert.Equal("b 2", reader.ReadLine());
        var error = Assert.Throws<DatasetException>(() => reader.ReadLine());
        Assert.Equal($"{path}:3: the line is longer than 10 characters; an annotation file holds short 'relative/path label' lines (is this the right file?)", error.Message);
    }

    [Fact]
    public void ALineOfExactlyTheLimitIsRead()
    {
        string path = Write("0123456789\n"u8.ToArray());
        using var reader = new AnnotationLineReader(path, maxLineLength: 10);
        Assert.Equal("0123456789", reader.ReadLine());
    }

    [Fact]
    public void MoreLinesThanTheLimitAreAnError()
    {
        string path = Write("a 1\nb 2\nc 3\n"u8.ToArray());
        using var reader = new AnnotationLineReader(path, maxLines: 2);
        Assert.Equal("a 1", reader.ReadLine());
        Assert.Equal("b 2", reader.ReadLine());
        var error = Assert.Throws<DatasetException>(() => reader.ReadLine());
        Assert.Equal($"{path}: has more than 2 lines, more than any dataset this reads", error.Message);
    }

    [Fact]
    public void DevZeroFailsOnItsFirstLine()
    {
        using var reader = new AnnotationLineReader("/dev/zero");
        var error = Assert.Throws<DatasetException>(() => reader.ReadLine());
        Assert.StartsWith($"/dev/zero:1: the line is longer than {AnnotationLineReader.MaxLineLength} characters", error.Message);
    }
}
