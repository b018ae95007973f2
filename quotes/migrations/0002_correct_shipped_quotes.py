"""Correct the shipped quotes in databases that loaded the earlier fixtures/quotes.json.

`load_quotes` skips a quote by its exact text and author, so a database loaded from the
earlier file would keep the old wording (a misattribution, a cut without its ellipsis) and gain
the corrected one beside it: the same quote twice in rotation. Each old row is corrected in
place (days that showed it keep pointing at it); where the corrected quote is already stored
too, the old row is retired instead. See fixtures/QUOTES_SOURCES.md, "Corrections".
"""

from django.db import migrations

# (old text, old author, new text, new author)
CORRECTIONS = [
    (
        "How much trouble he avoids who does not look to see what his neighbour says or does or thinks, but only to what he does himself, that it may be just and pure.",
        "Marcus Aurelius",
        "How much trouble he avoids who does not look to see what his neighbour says or does or thinks, but only to what he does himself, that it may be just and pure...",
        "Marcus Aurelius",
    ),
    (
        "For nowhere either with more quiet or more freedom from trouble does a man retire than into his own soul.",
        "Marcus Aurelius",
        "For nowhere either with more quiet or more freedom from trouble does a man retire than into his own soul...",
        "Marcus Aurelius",
    ),
    (
        "Remember this, that very little indeed is necessary for living a happy life.",
        "Marcus Aurelius",
        "...very little indeed is necessary for living a happy life.",
        "Marcus Aurelius",
    ),
    (
        "Let it make no difference to thee whether thou art cold or warm, if thou art doing thy duty.",
        "Marcus Aurelius",
        "Let it make no difference to thee whether thou art cold or warm, if thou art doing thy duty...",
        "Marcus Aurelius",
    ),
    (
        "The mind converts and changes every hindrance to its activity into an aid; and so that which is a hindrance is made a furtherance to an act; and that which is an obstacle on the road helps us on this road.",
        "Marcus Aurelius",
        "...the mind converts and changes every hindrance to its activity into an aid; and so that which is a hindrance is made a furtherance to an act; and that which is an obstacle on the road helps us on this road.",
        "Marcus Aurelius",
    ),
    (
        "Be not disgusted, nor discouraged, nor dissatisfied, if thou dost not succeed in doing everything according to right principles; but when thou hast failed, return back again, and be content if the greater part of what thou doest is consistent with man's nature.",
        "Marcus Aurelius",
        "Be not disgusted, nor discouraged, nor dissatisfied, if thou dost not succeed in doing everything according to right principles; but when thou hast failed, return back again, and be content if the greater part of what thou doest is consistent with man's nature...",
        "Marcus Aurelius",
    ),
    (
        "I do my duty: other things trouble me not.",
        "Marcus Aurelius",
        "I do my duty: other things trouble me not...",
        "Marcus Aurelius",
    ),
    (
        "Life is long if you know how to use it.",
        "Seneca",
        "...life is long if you know how to use it.",
        "Seneca",
    ),
    (
        "Hold every hour in your grasp. Lay hold of to-day's task, and you will not need to depend so much upon to-morrow's. While we are postponing, life speeds by.",
        "Seneca",
        "...hold every hour in your grasp. Lay hold of to-day's task, and you will not need to depend so much upon to-morrow's. While we are postponing, life speeds by.",
        "Seneca",
    ),
    (
        "Set yourself free for your own sake; gather and save your time, which till lately has been forced from you, or filched away, or has merely slipped from your hands.",
        "Seneca",
        "...set yourself free for your own sake; gather and save your time, which till lately has been forced from you, or filched away, or has merely slipped from your hands.",
        "Seneca",
    ),
    ("Men learn while they teach.", "Seneca", "...men learn while they teach.", "Seneca"),
    (
        "The greatest remedy for anger is delay.",
        "Seneca",
        "The greatest remedy for anger is delay...",
        "Seneca",
    ),
    (
        "We must not believe the many, who say that free persons only ought to be educated, but we should rather believe the philosophers who say that the educated only are free.",
        "Epictetus",
        "...we must not believe the many, who say that free persons only ought to be educated, but we should rather believe the philosophers who say that the educated only are free.",
        "Epictetus",
    ),
    (
        "If one advances confidently in the direction of his dreams, and endeavors to live the life which he has imagined, he will meet with a success unexpected in common hours.",
        "Henry David Thoreau",
        "...if one advances confidently in the direction of his dreams, and endeavors to live the life which he has imagined, he will meet with a success unexpected in common hours.",
        "Henry David Thoreau",
    ),
    (
        "A man is rich in proportion to the number of things which he can afford to let alone.",
        "Henry David Thoreau",
        "...a man is rich in proportion to the number of things which he can afford to let alone.",
        "Henry David Thoreau",
    ),
    (
        "The cost of a thing is the amount of what I will call life which is required to be exchanged for it, immediately or in the long run.",
        "Henry David Thoreau",
        "...the cost of a thing is the amount of what I will call life which is required to be exchanged for it, immediately or in the long run.",
        "Henry David Thoreau",
    ),
    (
        "The one thing in the world, of value, is the active soul.",
        "Ralph Waldo Emerson",
        "The one thing in the world, of value, is the active soul...",
        "Ralph Waldo Emerson",
    ),
    (
        "The only way to have a friend is to be one.",
        "Ralph Waldo Emerson",
        "...the only way to have a friend is to be one.",
        "Ralph Waldo Emerson",
    ),
    (
        "Self-trust is the first secret of success.",
        "Ralph Waldo Emerson",
        "Self-trust is the first secret of success...",
        "Ralph Waldo Emerson",
    ),
    (
        "Who is wise? He that learns from every one.",
        "Benjamin Franklin",
        "Who is wise? He that learns from every man...",
        "Ben Zoma",
    ),
    (
        "An ounce of prevention is worth a pound of cure.",
        "Benjamin Franklin",
        "...an ounce of prevention is worth a pound of cure...",
        "Benjamin Franklin",
    ),
    (
        "The tree which fills the arms grew from the tiniest sprout; the tower of nine storeys rose from a small heap of earth.",
        "Lao Tzu",
        "The tree which fills the arms grew from the tiniest sprout; the tower of nine storeys rose from a small heap of earth...",
        "Lao Tzu",
    ),
    (
        "There is nothing in the world more soft and weak than water, and yet for attacking things that are firm and strong there is nothing that can take precedence of it.",
        "Lao Tzu",
        "There is nothing in the world more soft and weak than water, and yet for attacking things that are firm and strong there is nothing that can take precedence of it...",
        "Lao Tzu",
    ),
    (
        "The beginning is the most important part of any work.",
        "Plato",
        "...the beginning is the most important part of any work...",
        "Plato",
    ),
    (
        "The unexamined life is not worth living.",
        "Socrates",
        "...the unexamined life is not worth living...",
        "Socrates",
    ),
    (
        "The credit belongs to the man who is actually in the arena, whose face is marred by dust and sweat and blood; who strives valiantly; who errs, who comes short again and again, because there is no effort without error and shortcoming; but who does actually strive to do the deeds.",
        "Theodore Roosevelt",
        "The credit belongs to the man who is actually in the arena, whose face is marred by dust and sweat and blood; who strives valiantly; who errs, who comes short again and again, because there is no effort without error and shortcoming; but who does actually strive to do the deeds...",
        "Theodore Roosevelt",
    ),
    (
        "I wish to preach, not the doctrine of ignoble ease, but the doctrine of the strenuous life, the life of toil and effort, of labor and strife.",
        "Theodore Roosevelt",
        "I wish to preach, not the doctrine of ignoble ease, but the doctrine of the strenuous life, the life of toil and effort, of labor and strife...",
        "Theodore Roosevelt",
    ),
    (
        "Never give in, never give in, never, never, never, never—in nothing, great or small, large or petty—never give in except to convictions of honour and good sense.",
        "Winston Churchill",
        "...never give in, never give in, never, never, never, never—in nothing, great or small, large or petty—never give in except to convictions of honour and good sense.",
        "Winston Churchill",
    ),
    (
        "The only thing we have to fear is fear itself.",
        "Franklin D. Roosevelt",
        "...the only thing we have to fear is fear itself...",
        "Franklin D. Roosevelt",
    ),
    (
        "Perhaps the most valuable result of all education is the ability to make yourself do the thing you have to do, when it ought to be done, whether you like it or not; it is the first lesson that ought to be learned.",
        "Thomas Henry Huxley",
        "Perhaps the most valuable result of all education is the ability to make yourself do the thing you have to do, when it ought to be done, whether you like it or not; it is the first lesson that ought to be learned...",
        "Thomas Henry Huxley",
    ),
    (
        "Perfection is finally attained not when there is no longer anything to add, but when there is no longer anything to take away.",
        "Antoine de Saint-Exupéry",
        "...perfection is finally attained not when there is no longer anything to add, but when there is no longer anything to take away...",
        "Antoine de Saint-Exupéry",
    ),
    (
        "To travel hopefully is a better thing than to arrive, and the true success is to labour.",
        "Robert Louis Stevenson",
        "...to travel hopefully is a better thing than to arrive, and the true success is to labour.",
        "Robert Louis Stevenson",
    ),
    (
        "I wasted time, and now doth time waste me.",
        "William Shakespeare",
        "I wasted time, and now doth time waste me...",
        "William Shakespeare",
    ),
    (
        "This above all: to thine own self be true.",
        "William Shakespeare",
        "This above all: to thine own self be true...",
        "William Shakespeare",
    ),
    (
        "A little learning is a dangerous thing; drink deep, or taste not the Pierian spring.",
        "Alexander Pope",
        "A little learning is a dangerous thing; drink deep, or taste not the Pierian spring...",
        "Alexander Pope",
    ),
    (
        "Made weak by time and fate, but strong in will to strive, to seek, to find, and not to yield.",
        "Alfred, Lord Tennyson",
        "...made weak by time and fate, but strong in will to strive, to seek, to find, and not to yield.",
        "Alfred, Lord Tennyson",
    ),
    (
        "I am the master of my fate, I am the captain of my soul.",
        "William Ernest Henley",
        "...I am the master of my fate, I am the captain of my soul.",
        "William Ernest Henley",
    ),
    (
        "If you can fill the unforgiving minute with sixty seconds' worth of distance run, yours is the Earth and everything that's in it.",
        "Rudyard Kipling",
        "...if you can fill the unforgiving minute with sixty seconds' worth of distance run, yours is the Earth and everything that's in it...",
        "Rudyard Kipling",
    ),
    (
        "The best way out is always through.",
        "Robert Frost",
        "...the best way out is always through.",
        "Robert Frost",
    ),
    (
        "Two roads diverged in a wood, and I—I took the one less traveled by, and that has made all the difference.",
        "Robert Frost",
        "...two roads diverged in a wood, and I—I took the one less traveled by, and that has made all the difference.",
        "Robert Frost",
    ),
    (
        "I have discovered that all the unhappiness of men arises from one single fact, that they cannot stay quietly in their own chamber.",
        "Blaise Pascal",
        "...I have discovered that all the unhappiness of men arises from one single fact, that they cannot stay quietly in their own chamber.",
        "Blaise Pascal",
    ),
    (
        "Some books are to be tasted, others to be swallowed, and some few to be chewed and digested.",
        "Francis Bacon",
        "Some books are to be tasted, others to be swallowed, and some few to be chewed and digested...",
        "Francis Bacon",
    ),
    ("We must cultivate our garden.", "Voltaire", "...we must cultivate our garden.", "Voltaire"),
    (
        "Success is to be measured not so much by the position that one has reached in life as by the obstacles which he has overcome while trying to succeed.",
        "Booker T. Washington",
        "...success is to be measured not so much by the position that one has reached in life as by the obstacles which he has overcome while trying to succeed.",
        "Booker T. Washington",
    ),
    (
        "Procrastination is the thief of time.",
        "Edward Young",
        "Procrastination is the thief of time...",
        "Edward Young",
    ),
    (
        "I never could have done what I have done without the habits of punctuality, order, and diligence, without the determination to concentrate myself on one object at a time, no matter how quickly its successor should come upon its heels.",
        "Charles Dickens",
        "...I never could have done what I have done without the habits of punctuality, order, and diligence, without the determination to concentrate myself on one object at a time, no matter how quickly its successor should come upon its heels...",
        "Charles Dickens",
    ),
    (
        "The mountains are calling and I must go.",
        "John Muir",
        "The mountains are calling and I must go...",
        "John Muir",
    ),
    (
        "You can't wait for inspiration. You have to go after it with a club.",
        "Jack London",
        "Don't loaf and invite inspiration; light out after it with a club, and if you don't get it you will nonetheless get something that looks remarkably like it.",
        "Jack London",
    ),
    ("Make haste slowly.", "Augustus", "Make haste slowly.", None),
    (
        "I wanted you to see what real courage is, instead of getting the idea that courage is a man with a gun in his hand. It's when you know you're licked before you begin but you begin anyway and you see it through no matter what.",
        "Harper Lee",
        "...I wanted you to see what real courage is, instead of getting the idea that courage is a man with a gun in his hand. It's when you know you're licked before you begin but you begin anyway and you see it through no matter what.",
        "Harper Lee",
    ),
    (
        "Philosophy teaches us to act, not to speak.",
        "Seneca",
        "...philosophy teaches us to act, not to speak...",
        "Seneca",
    ),
    (
        "I dwell in Possibility—a fairer House than Prose.",
        "Emily Dickinson",
        "I dwell in Possibility—a fairer House than Prose...",
        "Emily Dickinson",
    ),
]


def forwards(apps, schema_editor):
    Quote = apps.get_model("quotes", "Quote")
    for old_text, old_author, new_text, new_author in CORRECTIONS:
        old = Quote.objects.filter(text=old_text, author=old_author).first()
        if old is None:
            continue
        if Quote.objects.filter(text=new_text, author=new_author).exists():
            Quote.objects.filter(pk=old.pk).update(is_active=False)
        else:
            Quote.objects.filter(pk=old.pk).update(text=new_text, author=new_author)


class Migration(migrations.Migration):
    dependencies = [("quotes", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
