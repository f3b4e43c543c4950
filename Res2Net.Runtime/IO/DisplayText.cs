using System.Buffers;
using System.Globalization;
using System.Text;

namespace Res2Net.Runtime.IO;

/// <summary>
/// Text that came from a file (a checkpoint key, a zip entry name, an annotation line), made safe to show in a
/// message or on a terminal. Such text may hold characters a terminal acts on instead of showing: ESC starts
/// sequences that recolour, move the cursor over earlier output or retitle the window, and bidi overrides reorder
/// what is shown. Those characters are written as escapes the way Python's <c>repr</c> writes them
/// (<c>\x1b</c>, <c>\t</c>, <c>\u202e</c>, <c>\U000e0041</c>); everything else, accented letters and emoji included, is kept.
/// </summary>
/// <remarks>
/// Escaped are: control characters (C0, DEL, C1), format characters (bidi embeddings, overrides and isolates,
/// zero-width characters, tag characters), line and paragraph separators, and surrogates that do not form a pair.
/// A backslash is kept as it is, so escaping twice changes nothing more; that makes a key that really holds the
/// four characters <c>\x1b</c> look the same as one holding ESC, which is acceptable for display.
/// </remarks>
public static class DisplayText
{
    private const string Ellipsis = "...";

    /// <summary>How much of a name <see cref="Shorten"/> keeps: enough for any real key, not a page of a hostile one.</summary>
    public const int NameLength = 120;

    /// <summary><paramref name="text"/> with every character a terminal would act on written as an escape.</summary>
    public static string Escape(string text) => Escape(text, int.MaxValue);

    /// <summary>A name from a file, to quote inside a message: escaped, and cut after <see cref="NameLength"/> characters.</summary>
    public static string Shorten(string text) => Escape(text, NameLength);

    /// <summary>
    /// <see cref="Escape(string)"/> of the first <paramref name="maxChars"/> characters of <paramref name="text"/>,
    /// with <c>...</c> when it was longer (for names quoted inside a longer message).
    /// </summary>
    public static string Escape(string text, int maxChars)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegative(maxChars);
        bool cut = text.Length > maxChars;
        var shown = text.AsSpan(0, cut ? CutAt(text, maxChars) : text.Length);
        if (IndexOfUnsafe(shown) < 0) return cut ? string.Concat(shown, Ellipsis) : text;

        var sb = new StringBuilder(shown.Length + 16);
        while (!shown.IsEmpty)
        {
            int next = IndexOfUnsafe(shown);
            if (next < 0)
            {
                sb.Append(shown);
                break;
            }
            sb.Append(shown[..next]);
            shown = shown[next..];
            if (Rune.DecodeFromUtf16(shown, out var rune, out int used) != OperationStatus.Done)
                sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)shown[0]:x4}"); // a surrogate without its pair
            else if (rune.Value is '\t' or '\n' or '\r')
                sb.Append(rune.Value switch { '\t' => "\\t", '\n' => "\\n", _ => "\\r" });
            else if (rune.Value <= 0xFF)
                sb.Append(CultureInfo.InvariantCulture, $"\\x{rune.Value:x2}");
            else if (rune.IsBmp)
                sb.Append(CultureInfo.InvariantCulture, $"\\u{rune.Value:x4}");
            else
                sb.Append(CultureInfo.InvariantCulture, $"\\U{rune.Value:x8}");
            shown = shown[Math.Max(used, 1)..];
        }
        if (cut) sb.Append(Ellipsis);
        return sb.ToString();
    }

    /// <summary>Where the first character to escape starts, or -1.</summary>
    private static int IndexOfUnsafe(ReadOnlySpan<char> text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c >= ' ' && c < '\u007f') continue; // printable ASCII: the common case
            if (Rune.DecodeFromUtf16(text[i..], out var rune, out int used) != OperationStatus.Done) return i;
            if (IsUnsafe(rune)) return i;
            i += used - 1;
        }
        return -1;
    }

    private static bool IsUnsafe(Rune rune) => Rune.GetUnicodeCategory(rune) is
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    /// <summary>A cut at <paramref name="maxChars"/>, moved back one if it would split a surrogate pair.</summary>
    private static int CutAt(string text, int maxChars) =>
        maxChars > 0 && char.IsHighSurrogate(text[maxChars - 1]) && char.IsLowSurrogate(text[maxChars]) ? maxChars - 1 : maxChars;
}
