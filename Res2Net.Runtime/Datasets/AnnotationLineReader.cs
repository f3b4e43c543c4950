using System.Text;

namespace Res2Net.Runtime.Datasets;

/// <summary>
/// Reads an annotation file line by line (UTF-8, or the encoding its byte-order mark names; lines end at \n, \r\n
/// or \r, as <see cref="StreamReader.ReadLine"/> splits them) without ever holding more than one bounded line:
/// a line over <see cref="MaxLineLength"/> characters, or more than <see cref="MaxLines"/> lines, is an error
/// naming the file and line. So a binary file or a device such as /dev/zero given as --ann-file fails at once
/// instead of growing one endless line until memory runs out.
/// </summary>
public sealed class AnnotationLineReader : IDisposable
{
    /// <summary>Characters per line: a Linux path may be 4096 bytes (PATH_MAX), plus the label; twice that leaves room.</summary>
    public const int MaxLineLength = 8192;

    /// <summary>Lines per file: ImageNet-21k, the largest set mmpretrain lists, has 14.2 million images.</summary>
    public const int MaxLines = 20_000_000;

    private readonly string _path;
    private readonly int _maxLineLength;
    private readonly int _maxLines;
    private readonly StreamReader _reader;
    private readonly char[] _buffer = new char[4096];
    private readonly StringBuilder _line = new();
    private int _position;
    private int _count;
    private bool _afterCarriageReturn;

    /// <summary>Opens <paramref name="path"/>; the limits default to <see cref="MaxLineLength"/> and <see cref="MaxLines"/>.</summary>
    /// <exception cref="DatasetException">The file cannot be opened.</exception>
    public AnnotationLineReader(string path, int maxLineLength = MaxLineLength, int maxLines = MaxLines)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLines, 1);
        _path = path;
        _maxLineLength = maxLineLength;
        _maxLines = maxLines;
        try
        {
            _reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetException(path, $"cannot read the annotation file ({e.Message})", e);
        }
    }

    /// <summary>The 1-based number of the line <see cref="ReadLine"/> returned last.</summary>
    public int LineNumber { get; private set; }

    /// <summary>The next line without its terminator, or null at the end of the file.</summary>
    /// <exception cref="DatasetException">The line or the file is too long, or reading fails.</exception>
    public string? ReadLine()
    {
        _line.Clear();
        bool started = false;
        while (true)
        {
            if (_position == _count && !Fill()) return started ? Finish() : null;
            char c = _buffer[_position++];
            if (_afterCarriageReturn)
            {
                _afterCarriageReturn = false;
                if (c == '\n') continue;   // the \n of a \r\n
            }
            started = true;
            if (c == '\n') return Finish();
            if (c == '\r')
            {
                _afterCarriageReturn = true;
                return Finish();
            }
            if (_line.Length == _maxLineLength)
            {
                throw new DatasetException($"{_path}:{LineNumber + 1}",
                    $"the line is longer than {_maxLineLength} characters; an annotation file holds short 'relative/path label' lines (is this the right file?)");
            }
            _line.Append(c);
        }
    }

    public void Dispose() => _reader.Dispose();

    private string Finish()
    {
        if (LineNumber == _maxLines) throw new DatasetException(_path, $"has more than {_maxLines:N0} lines, more than any dataset this reads");
        LineNumber++;
        return _line.ToString();
    }

    private bool Fill()
    {
        try
        {
            _count = _reader.Read(_buffer, 0, _buffer.Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetException(_path, $"cannot read the annotation file ({e.Message})", e);
        }
        _position = 0;
        return _count > 0;
    }
}
